"""Real replies copied from the seed thread (seed/000_aec3b0cafef8faf7.txt), unchanged: the
reply router's tables and the thread tests post them."""

from __future__ import annotations

SEED_7 = """作业7-1:
乘法:((224+2-3)/1+1)*10*3*64*9=867041280次
加法:((224+2-3)/1+1)*10*3*64*(8+1)=867041280次
作业7-2:
将激活函数改成relu后,准确度有了很大程度的提高,模型训练效果显著。
原因分析:由于sigmoid函数两端倒数为0,容易导致后面的隐藏层激活后反向传播值为0,起不到更新网络参数的作用
而relu激活函数就不存在这个问题,relu激活函数在大于0的部分的倒数全部为1,小于0的部分为0
sigmoid:
relu:"""
SEED_8_QUESTION = """作业8:如果将LeNet模型中的中间层的激活函数Sigmoid换成ReLU,在眼底筛查数据集上将会得到什么样的结果?Loss是否能收敛,ReLU和Sigmoid之间的区别是引起结果不同的原因吗?请发表你的观点
将卷积层的Sigmoid换成ReLU能够使模型的loss下降更快,也减少了同样其他参数情况下的训练用时。因为relu激活函数解决了深层网络的梯度消散现象,使模型更快收敛,而且其只将输入大于1的神经元传入下一层,使模型集中学习重要的图像特征,并减少了运算量。
但试验得出:后面分类的全连接层还是sigmoid激活函数效果更好。"""
SEED_8_1 = """作业8-1:sigmoid 换成relu,loss收敛,准确度提升,运行结果如下图
从纵坐标及曲线可以看出,sigmoid的loss下降到0.7附近不再下降,而relu则下降到0.1一下还有下降趋势,
在此项目中relu优势比sigmoid大"""
SEED_8_1_NEWLINE = """作业8-1:
变更为relu后能够收敛,收敛速度加快。可能原因是relu计算更为简单,计算量更少。"""
SEED_8_NO_COLON = """作业8
将LeNet模型中的中间层的激活函数Sigmoid换成ReLU,在眼底筛查数据集上Loss可以收敛。
ReLU 在训练过程中收敛更快"""
SEED_5 = """作业5-1:
adam算法,准确率0.99
作业5-2: 常见的卷积神经网络包括:VGGnet, Googlenet, Alexnet, yolo, ssd, fastrcnn, fasterrcnn等等
作业5-3: Adam算法效果最好,lr在0.01-0.001之间最优,0.1震荡"""
SEED_6_1 = """作业6-1:
(1)
(2)
(3)对比这种不同的损失函数,我们发现cross entropy准确率能快速达到很高,收敛的快;
(4)采用cross entropy损失函数,训练集以及测试集的loss和accuracy同步变化,且能很快达到收敛"""
SEED_9_1 = """作业9-1:
下图为学习率为0.001时的训练结果
学习率为0.1时:
每10个batch Id变化时,改变学习率,步距为-0.0045"""
SEED_THEORY = """2.理论作业:
①类比牛顿第二定律的案例,在你的工作和生活中还有哪些问题可以用监督学习的框架来解决?假设和参数是什么?优化目标是什么?
答:焦耳定律中热量Q,电流I,电阻R,时间t的关系,可以使用监督。"""
SEED_TAIL_THEN_8 = """使用relu激活函数,Loss可以收敛。
Sigmoid函数一旦进入饱和区,则梯度变化将很小,即Loss基本不再下降
作业8:
使用relu激活函数,Loss可以收敛。"""
